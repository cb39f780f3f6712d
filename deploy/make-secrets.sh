#!/bin/sh
# Writes fresh secrets for docker-compose.yml to an env file (default: .env), readable by its
# owner only. Refuses to overwrite one: the storage key decrypts the spool and the KMS key
# every stored object, so replacing them loses data.
set -eu
target="${1:-.env}"
if [ -e "$target" ]; then
    echo "$target exists: not overwriting its secrets" >&2
    exit 1
fi
command -v openssl >/dev/null || { echo "make-secrets: openssl is needed" >&2; exit 1; }
umask 077
{
    echo "VOICE_STORAGE_KEY=$(openssl rand -base64 32)"
    echo "VOICE_USER_ID_SECRET=$(openssl rand -base64 32)"
    echo "VOICE_TOKEN_SECRET=$(openssl rand -base64 32)"
    echo "POSTGRES_PASSWORD=$(openssl rand -hex 24)"
    echo "MINIO_ROOT_PASSWORD=$(openssl rand -hex 24)"
    echo "MINIO_KMS_SECRET_KEY=voice-key:$(openssl rand -base64 32)"
    echo "GRAFANA_ADMIN_PASSWORD=$(openssl rand -hex 24)"
} > "$target"
echo "wrote $target; keep a copy somewhere safe: without it the stored data cannot be read" >&2
