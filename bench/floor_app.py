"""The floor: the least a Streamlit app can do to show a Gemini image (``streamlit run bench/floor_app.py``).

bench/jobs_bench.py runs it beside the studio on the same emulator, so the studio's overhead is
measured against Streamlit itself, not against a bare SDK call. FLOOR_BASE_URL and FLOOR_API_KEY point it,
FLOOR_MODEL names the model (the studio's Pro, from its catalogue).
"""

import os

import streamlit as st
from google import genai
from google.genai import types


@st.cache_resource
def client() -> genai.Client:
    return genai.Client(api_key=os.environ["FLOOR_API_KEY"],
                        http_options=types.HttpOptions(base_url=os.environ["FLOOR_BASE_URL"], api_version="v1beta"))


if st.sidebar.radio("Output format", ["PNG", "JPEG"], horizontal=True) == "JPEG":  # the floor of a sidebar change
    st.sidebar.slider("JPEG quality", 1, 100, 90)
prompt = st.text_area("Prompt")
if st.button("Generate"):
    response = client().models.generate_content(model=os.environ["FLOOR_MODEL"], contents=prompt, config=types.GenerateContentConfig(
        response_modalities=["TEXT", "IMAGE"], image_config=types.ImageConfig(aspect_ratio="1:1", image_size="1K")))
    for part in response.parts or []:
        if part.inline_data is not None and part.inline_data.data:
            st.image(part.inline_data.data)
