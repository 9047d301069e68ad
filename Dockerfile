# Beacon's container image (README: "Running it in Docker").
#   docker build -t beacon .
#   docker run -d --name beacon -e DISCORD_TOKEN -v beacon-data:/var/lib/beacon beacon
#
# Build stage: the toolchain the project pins in Cargo.toml's rust-version or newer, and the
# lock file as committed (--locked). The time-zone database is compiled into the binary (jiff's
# tzdb-bundle-always), so reports are in each server's zone with no /usr/share/zoneinfo.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin beacon

# Runtime stage: a small Debian with CA certificates (Discord over TLS), the binary, the starter
# knowledge base and the migrations (also compiled into the binary; here to read). No compiler,
# no shell tools beyond Debian's base, and not root.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/beacon --create-home beacon
COPY --from=build /src/target/release/beacon /usr/local/bin/beacon
COPY intents /usr/share/beacon/intents
COPY migrations /usr/share/beacon/migrations
COPY LICENSE /usr/share/beacon/LICENSE
ENV BEACON_INTENTS=/usr/share/beacon/intents \
    DATABASE_URL=sqlite:///var/lib/beacon/beacon.db \
    BEACON_OPS_LISTEN=0.0.0.0:9090
USER beacon
WORKDIR /var/lib/beacon
# The SQLite database (and its -wal and -shm files) lives here: keep it on a volume.
VOLUME ["/var/lib/beacon"]
# 9090: /healthz and /metrics. 8080: the public status page, when BEACON_WEB_LISTEN is set.
EXPOSE 9090 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/beacon"]
CMD ["run"]
