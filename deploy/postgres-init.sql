-- Run once by the postgres image, on the first start with an empty data volume
-- (/docker-entrypoint-initdb.d). Later edits here need `docker compose down -v` to take effect.
--
-- calbridge: the application's database; db/migrate.ts owns its schema.
-- temporal, temporal_visibility: Temporal's persistence and visibility stores. The temporal service
-- runs with SKIP_DB_CREATE=true and only installs its schema into them, so creating them here is the
-- single place these databases come from.
CREATE DATABASE calbridge;
CREATE DATABASE temporal;
CREATE DATABASE temporal_visibility;
