# The service with its embedded CPU models. Build: docker compose build
#
# Two stages: the builder has the compilers (llama-cpp-python compiles from source) and makes
# /app with its virtual environment; the final image has only what runs (Python, libgomp for
# llama.cpp's threads) and runs as an unprivileged user. Base images are pinned by version.

FROM python:3.11.11-slim-bookworm AS builder
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md Makefile ./
COPY api api
COPY core core
COPY workers workers
COPY capture capture
COPY redaction redaction
COPY review review
COPY migrations migrations
# Bytecode is compiled here: the final image's /app is read-only to the service, which would
# otherwise recompile scipy, spaCy and the rest on every start
RUN make install PYTHON=python3.11 WHEELS=/tmp/wheels && rm -rf /tmp/wheels /root/.cache \
    && .venv/bin/python -m compileall -q api core workers capture redaction review migrations

FROM python:3.11.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 voice \
    && useradd --system --uid 10001 --gid voice --create-home --home-dir /home/voice voice \
    && install -d -o voice -g voice -m 0700 /data
# Owned by root, read-only to the service: only /data (the volume) is writable by it
COPY --from=builder /app /app
WORKDIR /app
ENV VOICE_HOST=0.0.0.0 VOICE_DATA_DIR=/data HF_HUB_OFFLINE=1 PYTHONDONTWRITEBYTECODE=1 \
    PATH=/app/.venv/bin:$PATH
VOLUME /data
EXPOSE 8003
USER 10001:10001
CMD ["/app/.venv/bin/voice-service", "serve"]
