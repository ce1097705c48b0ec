# The production image: the official Airflow 3.3.2 image extended with surgehub (a normal, non-editable
# install), its dependencies exactly as in uv.lock, its DAGs and plugins, and the stack's init script.
# docker-compose.yml builds it; docs/deployment.md says how to run it, here and on Kubernetes.
#
# Behind a TLS-inspecting proxy (as on NHS networks), pip must trust the proxy's CA: give the build a
# CA bundle as the BuildKit secret `ca_bundle`. It is used only while installing, never kept in the image:
#   docker compose build             with SURGEHUB_BUILD_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt in .env
#   docker build --secret id=ca_bundle,src=/etc/ssl/certs/ca-certificates.crt .
# On an ordinary network there is nothing to pass. AIRFLOW_IMAGE names another base (a local stand-in).
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11
FROM ${AIRFLOW_IMAGE}

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ARG UV_VERSION=0.13.9

WORKDIR /opt/surgehub
COPY --chown=50000:0 pyproject.toml uv.lock README.md ./
# Dependencies first (a cached layer), exactly as locked and checked against the lock's hashes.
# pg_dump and pg_restore (surgehub backup/restore) come with the Airflow image's postgresql-client.
RUN --mount=type=secret,id=ca_bundle,uid=50000 \
    if [ -s /run/secrets/ca_bundle ]; then export PIP_CERT=/run/secrets/ca_bundle; fi \
 && pip install --no-cache-dir "uv==${UV_VERSION}" \
 && uv export --frozen --no-dev --no-emit-project --output-file /tmp/requirements.txt \
 && pip install --no-cache-dir --require-hashes --requirement /tmp/requirements.txt \
 && rm /tmp/requirements.txt \
 && pg_dump --version
COPY --chown=50000:0 src ./src
COPY --chown=50000:0 config ./config
COPY --chown=50000:0 docs/submitter-guide.md ./docs/submitter-guide.md
# A normal (non-editable) install: the SQL, the GX suite and the templates are package data. The
# sources are removed afterwards, so nothing can read them from the checkout.
RUN --mount=type=secret,id=ca_bundle,uid=50000 \
    if [ -s /run/secrets/ca_bundle ]; then export PIP_CERT=/run/secrets/ca_bundle; fi \
 && pip install --no-cache-dir --no-deps /opt/surgehub \
 && rm -rf /opt/surgehub/src /opt/surgehub/docs

# The data folders (landing, archive, quarantine, gx: volumes in docker-compose.yml; tmp: the submission
# API's scratch space) owned by the airflow user, group 0, group-writable: a named volume mounted here
# starts out with this ownership.
USER 0
RUN install -d -o 50000 -g 0 -m 0775 /opt/surgehub-data /opt/surgehub-data/landing \
      /opt/surgehub-data/archive /opt/surgehub-data/quarantine /opt/surgehub-data/tmp \
      /opt/surgehub-data/gx
USER 50000

COPY --chown=50000:0 dags /opt/airflow/dags
COPY --chown=50000:0 plugins /opt/airflow/plugins
COPY --chmod=0755 deploy/entrypoint.sh deploy/airflow-init.sh /opt/surgehub/deploy/
# FAB's configuration ([fab] config_file = $AIRFLOW_HOME/webserver_config.py): the data team's single
# sign-on to the Airflow UI when SURGEHUB_OIDC_* are set; FAB's own accounts otherwise.
COPY --chown=50000:0 deploy/webserver_config.py /opt/airflow/webserver_config.py

WORKDIR /opt/airflow
ENTRYPOINT ["/usr/bin/dumb-init", "--", "/opt/surgehub/deploy/entrypoint.sh"]
CMD []

# Last, so that a new revision changes only the label, not the cached layers.
ARG SURGEHUB_REVISION=unknown
LABEL org.opencontainers.image.title="surgehub" \
      org.opencontainers.image.revision="${SURGEHUB_REVISION}" \
      uk.nhs.gm.surgehub.image="airflow"
