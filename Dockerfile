# The issuer's container image: `microcred serve` (the default command), `microcred worker` and every
# other `microcred` command. docs/deployment.md explains the environment, volumes and first-time setup;
# compose.yaml runs it with PostgreSQL, two app servers and a worker.
#
# Two stages: the first builds the project's wheel and installs it with its dependencies into a
# virtual environment; the second is a fresh slim Python with that environment only (no compiler, no
# pip cache, no source tree). Nothing secret is in the image: the secret key, database password and
# signing keys come from the environment and the data volume at run time.
#
#   docker build -t microcred .
#   docker build --build-arg PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:<digest> -t microcred .

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# only what the wheel is built from (.dockerignore keeps everything else out of the context)
COPY pyproject.toml README.md ./
COPY contexts ./contexts
COPY verifier ./verifier
COPY issuer ./issuer
RUN python -m pip wheel --no-deps --wheel-dir /dist . \
 && python -m venv /opt/microcred \
 && /opt/microcred/bin/pip install /dist/microcred-*.whl

FROM ${PYTHON_IMAGE}
# A fixed, unprivileged user: files in the data volume belong to uid 10001 whichever host runs it.
RUN groupadd --system --gid 10001 microcred \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/microcred --no-create-home \
            --shell /usr/sbin/nologin microcred \
 && mkdir -p /var/lib/microcred/instance /var/lib/microcred/keys \
 && chown -R 10001:10001 /var/lib/microcred \
 && chmod -R 0700 /var/lib/microcred
COPY --from=build /opt/microcred /opt/microcred
ENV PATH=/opt/microcred/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MICROCRED_INSTANCE=/var/lib/microcred/instance \
    MICROCRED_KEYS=/var/lib/microcred/keys \
    MICROCRED_LOG_FORMAT=json
WORKDIR /var/lib/microcred
USER 10001:10001
EXPOSE 5000
# /healthz: the process answers and its database answers (docs/operations.md). A container that runs
# another command (the worker, a one-shot `microcred init`) turns this off (compose.yaml does).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/healthz', timeout=4)"]
# 0.0.0.0: inside the container, so the other containers (a reverse proxy) reach it; publish the port
# only to a reverse proxy that terminates TLS (docs/deployment.md). Every setting comes from the
# environment; without MICROCRED_SECRET_KEY a random key is created in the instance folder.
CMD ["microcred", "serve", "--host", "0.0.0.0", "--port", "5000", "--workers", "2", "--threads", "8"]
