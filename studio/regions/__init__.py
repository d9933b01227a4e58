"""Paint to edit (issue 23): region edits, extending the frame and upscaling, with untouched pixels guaranteed.

The Gemini API has no mask field: the mask travels as a black-and-white image with words
(``edit.REGION_PREAMBLE``), and the studio, not the model, keeps every pixel outside the mask and its
feather exactly as it was (``blend.composite``). Pure Python (Pillow, NumPy); no streamlit, no History.

- ``edit``: ``RegionEdit`` (the request-level field ``GenerationRequest.region``), the preamble, recipe fields.
- ``masks``: masks from the canvas (strokes, rectangles, an RGBA drawing), invert, clear, ``check_mask``.
- ``frame``: the extend canvas and mask for a new ratio or margins; upscale targets and their price.
- ``feather``: how far an edit may reach past the painted area, and the alpha of its soft edge.
- ``blend``: the composite of the model's answer into the original, inside the mask only, written as a banded
  PNG (``studio.png_bands``) that copies the original's compressed rows wherever the edit left them alone.
"""

from studio.regions.edit import MODES, RegionEdit

__all__ = ["MODES", "RegionEdit"]
