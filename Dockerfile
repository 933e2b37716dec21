# The truidentidad-mock server as a container image.
#
#   docker build -t truidentidad-mock .
#   docker run --rm -p 8080:8080 -e TRUIDENTIDAD_MOCK_ADMIN_TOKEN=change-me truidentidad-mock
#
# The server listens on 0.0.0.0:8080 inside the container, so the control API needs the
# admin token (the server refuses to start without one when it is not on loopback). Every
# `serve` flag has a TRUIDENTIDAD_MOCK_* variable (see `truidentidad-mock serve --help`).
# scripts/dockerfile_steps.py runs these steps outside a container in CI (docs/container.md).

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p truidentidad-mock --bin truidentidad-mock

FROM debian:bookworm-slim AS runtime
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin mock
COPY --from=build /src/target/release/truidentidad-mock /usr/local/bin/truidentidad-mock
ENV TRUIDENTIDAD_MOCK_BIND=0.0.0.0 \
    TRUIDENTIDAD_MOCK_PORT=8080
USER 10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=2s --retries=3 CMD ["truidentidad-mock", "health"]
ENTRYPOINT ["truidentidad-mock"]
CMD ["serve"]
