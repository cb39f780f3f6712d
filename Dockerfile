# The service with its embedded CPU models. Build: docker compose build
FROM python:3.11-slim-bookworm
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
RUN make install PYTHON=python3.11 WHEELS=/tmp/wheels && rm -rf /tmp/wheels /root/.cache
ENV VOICE_HOST=0.0.0.0 VOICE_DATA_DIR=/data HF_HUB_OFFLINE=1
VOLUME /data
EXPOSE 8003
CMD [".venv/bin/voice-service", "serve"]
