-- One row /healthz writes, so a database that can be read but not written (a full disk, a
-- read-only file, a PostgreSQL replica) is reported unhealthy.
CREATE TABLE health (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL
);
