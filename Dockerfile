# Nano Banana Pro studio in a container: `docker build -t nano-banana-studio .`
# Run alone (History on the container's disk, gone with it) or, for a team, with PostgreSQL and an
# S3-compatible bucket: compose.yaml, and docs/DEPLOY.md ("Self-hosting with Docker").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STUDIO_DATA_DIR=/data

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

# Only what the app runs: never .streamlit/secrets.toml, .git or the tests (mount secrets at run time instead:
# -v ./secrets.toml:/app/.streamlit/secrets.toml:ro, or pass the settings as environment variables).
COPY app.py ./
COPY app_pages ./app_pages
COPY components ./components
COPY studio ./studio
COPY .streamlit/config.toml ./.streamlit/config.toml

RUN useradd --create-home --uid 10001 studio \
    && mkdir -p /data \
    && chown studio:studio /data
USER studio
VOLUME ["/data"]

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status == 200 else 1)"

CMD ["streamlit", "run", "app.py", "--server.address", "0.0.0.0", "--server.port", "8501", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
