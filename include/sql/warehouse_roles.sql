-- Who may read what in the PostgreSQL warehouse (docs/contracts.md#5-warehouse: personal data
-- only in `restricted`, readable only by roles that need it). Applied by chuyencan.core.roles.ensure_roles
-- on every deploy, after the roles exist; {writer}, {district_reader}, {restricted_reader} and
-- {database} are quoted identifiers. Every statement can run any number of times.

-- Nobody gets into the warehouse database by default; each role is let in explicitly.
REVOKE ALL ON DATABASE {database} FROM PUBLIC;
GRANT CONNECT, TEMPORARY, CREATE ON DATABASE {database} TO {writer};
GRANT CONNECT ON DATABASE {database} TO {district_reader}, {restricted_reader};

-- The pipeline's writer owns the four schemas (and, see ensure_roles, every table in them).
CREATE SCHEMA IF NOT EXISTS ref AUTHORIZATION {writer};
CREATE SCHEMA IF NOT EXISTS ops AUTHORIZATION {writer};
CREATE SCHEMA IF NOT EXISTS report AUTHORIZATION {writer};
CREATE SCHEMA IF NOT EXISTS restricted AUTHORIZATION {writer};
ALTER SCHEMA ref OWNER TO {writer};
ALTER SCHEMA ops OWNER TO {writer};
ALTER SCHEMA report OWNER TO {writer};
ALTER SCHEMA restricted OWNER TO {writer};
REVOKE ALL ON SCHEMA ref, ops, report, restricted FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- The district office: the contract's aggregates and the reference data. Nothing in
-- `restricted` (children's personal data) and nothing in `ops` (file names, masked issues).
GRANT USAGE ON SCHEMA report, ref TO {district_reader};
GRANT SELECT ON ALL TABLES IN SCHEMA report, ref TO {district_reader};
REVOKE ALL ON SCHEMA restricted, ops FROM {district_reader};
REVOKE ALL ON ALL TABLES IN SCHEMA restricted, ops FROM {district_reader};
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA report, ref FROM {district_reader};

-- Those who follow up individual children (case workers, the police liaison): the personal
-- tables plus the aggregates and reference data; still nothing in `ops`.
GRANT USAGE ON SCHEMA restricted, report, ref TO {restricted_reader};
GRANT SELECT ON ALL TABLES IN SCHEMA restricted, report, ref TO {restricted_reader};
REVOKE ALL ON SCHEMA ops FROM {restricted_reader};
REVOKE ALL ON ALL TABLES IN SCHEMA ops FROM {restricted_reader};
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA restricted, report, ref FROM {restricted_reader};

-- Tables the pipeline creates later (new report tables, a new DAG's tables) follow the same
-- rules without anyone re-running this file.
ALTER DEFAULT PRIVILEGES FOR ROLE {writer} IN SCHEMA report, ref
    GRANT SELECT ON TABLES TO {district_reader}, {restricted_reader};
ALTER DEFAULT PRIVILEGES FOR ROLE {writer} IN SCHEMA restricted
    GRANT SELECT ON TABLES TO {restricted_reader};

-- Readers cannot write even if someone grants too much later, and find the tables they read
-- without schema prefixes in psql.
ALTER ROLE {district_reader} SET default_transaction_read_only = on;
ALTER ROLE {restricted_reader} SET default_transaction_read_only = on;
ALTER ROLE {district_reader} IN DATABASE {database} SET search_path = report, ref;
ALTER ROLE {restricted_reader} IN DATABASE {database} SET search_path = restricted, report, ref;
