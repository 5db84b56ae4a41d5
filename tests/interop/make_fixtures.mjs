// make_fixtures.mjs - writes the small extra Parquet fixtures in
// tests/fixtures/parquet with DuckDB (types, encodings and codecs the shared
// fixtures do not cover) and the CSV each must decode to. Run once by hand:
//   node tests/interop/make_fixtures.mjs   (after npm install --prefix bench/.deps @duckdb/node-api)
import { createRequire } from 'node:module';
import path from 'node:path';
const require = createRequire(path.resolve('bench/.deps') + '/');
const { DuckDBInstance } = require('@duckdb/node-api');

const dir = process.argv[2] || 'tests/fixtures/parquet';
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const run = (sql) => con.run(sql);

await run(`CREATE TABLE t AS SELECT
  i::BIGINT AS id,
  CASE WHEN i % 7 = 3 THEN NULL ELSE (i % 200 - 100)::TINYINT END AS i8,
  (i % 250)::UTINYINT AS u8,
  (i * 263 % 65000)::USMALLINT AS u16,
  (i * 2654435761 % 4294967295)::UINTEGER AS u32,
  (i * 1000003)::UBIGINT AS u64,
  ((i * 37 % 100000) / 100.0)::DECIMAL(9,2) AS dec9,
  ((i * 7919) / 1000.0)::DECIMAL(18,3) AS dec18,
  ((i * 104729 - 5000000) / 10000.0)::DECIMAL(30,4) AS dec30,
  TIMESTAMP '2021-03-04 05:06:07.123' + INTERVAL (i) SECOND AS ts_ms_src,
  'v' || (i * i % 1009)::VARCHAR || repeat('z', i % 5) AS s,
  CASE WHEN i % 5 = 0 THEN NULL ELSE (i * 0.5)::DOUBLE END AS dbl,
  (i % 3 = 0) AS b
  FROM range(1000) r(i)`);
await run(`ALTER TABLE t ADD COLUMN ts_ms TIMESTAMP_MS; UPDATE t SET ts_ms = ts_ms_src`);
await run(`ALTER TABLE t ADD COLUMN ts_ns TIMESTAMP_NS; UPDATE t SET ts_ns = ts_ms_src`);
await run(`ALTER TABLE t DROP COLUMN ts_ms_src`);

const variants = [
  ['types_v1_snappy', "COMPRESSION 'snappy'"],
  ['types_v2_zstd', "COMPRESSION 'zstd', PARQUET_VERSION V2"],
  ['types_v2_lz4', "COMPRESSION 'lz4_raw', PARQUET_VERSION V2"],
  ['types_brotli', "COMPRESSION 'brotli'"],
  ['types_nodict_v2', "COMPRESSION 'uncompressed', PARQUET_VERSION V2, DICTIONARY_SIZE_LIMIT 1"],
];
for (const [name, opts] of variants)
  await run(`COPY t TO '${dir}/${name}.parquet' (FORMAT parquet, ROW_GROUP_SIZE 300, ${opts})`);
// The expected text: integers, doubles (decimals become float64), timestamps
// as epoch nanoseconds, strings as is, empty for missing.
await run(`COPY (SELECT id, i8, u8, u16, u32, u64, dec9::DOUBLE AS dec9, dec18::DOUBLE AS dec18,
  dec30::DOUBLE AS dec30, s, dbl, b,
  epoch_ns(ts_ms::TIMESTAMP) AS ts_ms, epoch_ns(ts_ns) AS ts_ns FROM t ORDER BY id)
  TO '${dir}/types_expected.csv' (HEADER, QUOTE '')`);
await run(`COPY (SELECT i AS id, {'a': i, 'b': 'x' || i} AS st, [i, i + 1] AS lst, 'k' || i AS name
  FROM range(10) r(i)) TO '${dir}/nested.parquet' (FORMAT parquet)`);
console.log('fixtures written to', dir);

// A small seed corpus for tests/fuzz/fuzz_parquet.c: tiny files of every
// codec and page version.
const seeds = 'tests/fuzz/corpus/parquet';
await run(`CREATE TABLE small AS SELECT * FROM t WHERE id < 40`);
for (const [name, opts] of [
  ['snappy_v1', "COMPRESSION 'snappy'"], ['zstd_v2', "COMPRESSION 'zstd', PARQUET_VERSION V2"],
  ['gzip_v1', "COMPRESSION 'gzip'"], ['lz4_v2', "COMPRESSION 'lz4_raw', PARQUET_VERSION V2"],
  ['none_v2', "COMPRESSION 'uncompressed', PARQUET_VERSION V2, DICTIONARY_SIZE_LIMIT 1"],
  ['none_v1', "COMPRESSION 'uncompressed'"]])
  await run(`COPY small TO '${seeds}/${name}.parquet' (FORMAT parquet, ROW_GROUP_SIZE 20, ${opts})`);
console.log('seeds written to', seeds);
