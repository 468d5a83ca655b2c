# newsbrief: the HTTP service with its shipped model baked in; nothing is downloaded at run time.
#   docker build -t newsbrief .          (podman: podman build --format docker -t newsbrief .)
#   docker run --rm -p 8000:8000 newsbrief
ARG BASE_IMAGE=python:3.11-slim

# --- build: a virtual environment with the runtime dependencies --------------------------------
FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
RUN python3 -m venv /opt/venv
COPY pyproject.toml ./
COPY models/ models/
# The dependencies of pyproject.toml, with the library versions the shipped model records in its
# metadata pinned exactly (the service refuses a model whose scikit-learn/numpy do not match).
RUN python3 -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
 && python3 -c "import json, pathlib; r = pathlib.Path('models'); v = r / (r / 'CURRENT').read_text().strip(); libs = json.loads((v / 'metadata.json').read_text())['libraries']; print('\n'.join(f'{k}=={x}' for k, x in libs.items() if k != 'python' and x[:1].isdigit()))" > constraints.txt \
 && cat constraints.txt \
 && /opt/venv/bin/pip install --no-compile -r requirements.txt -c constraints.txt \
 && /opt/venv/bin/pip uninstall -y -q pip setuptools \
 && find /opt/venv -depth -type d \( -name tests -o -name __pycache__ \) -exec rm -rf {} + \
 && rm -rf /opt/venv/lib/python3*/site-packages/pycountry/locales \
 && /opt/venv/bin/python -m compileall -q -j 0 /opt/venv/lib

# --- runtime: the venv, the code and the model; no compilers, no pip -----------------------------
FROM ${BASE_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    MODEL_DIR=/app/models
WORKDIR /app
RUN groupadd --system --gid 10001 newsbrief \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin newsbrief
COPY --from=build /opt/venv /opt/venv
COPY pyproject.toml ./
COPY newsbrief/ newsbrief/
# service/ includes static/: the demo page at GET / and its two example articles
COPY service/ service/
COPY models/ models/
RUN python -m compileall -q newsbrief service
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; h = os.environ.get('HOST', '127.0.0.1'); h = {'0.0.0.0': '127.0.0.1', '::': '::1', '': '127.0.0.1'}.get(h, h); h = '[' + h + ']' if ':' in h else h; urllib.request.urlopen('http://' + h + ':' + os.environ.get('PORT', '8000') + '/readyz', timeout=4)"]
CMD ["python", "-m", "service"]
