# The production image: the official Airflow 3.3.2 image extended with surgehub and its locked dependencies.
FROM apache/airflow:3.3.2-python3.11

USER root
# pg_dump/pg_restore for warehouse backups; nothing else beyond the official image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client \
 && rm -rf /var/lib/apt/lists/*
USER airflow

WORKDIR /opt/surgehub
COPY --chown=airflow:root pyproject.toml uv.lock README.md ./
# Dependencies first (cached layer), exactly as locked; Airflow itself is already in the image.
RUN pip install --no-cache-dir uv \
 && uv export --frozen --no-dev --no-hashes --no-emit-project -o /tmp/requirements.txt \
 && pip install --no-cache-dir -r /tmp/requirements.txt
COPY --chown=airflow:root src ./src
COPY --chown=airflow:root config ./config
# A normal (non-editable) install: the SQL, the GX suite and the templates are package data.
RUN pip install --no-cache-dir --no-deps /opt/surgehub

WORKDIR /opt/airflow
