// duckdb_check.mjs FIXTURE OUTDIR: DuckDB reads what tests/interop/lask_write.lua
// wrote and must find the same rows as in FIXTURE (which DuckDB wrote).
// Prints "N passed, M failed" for tools/run_tests.sh.
import { createRequire } from 'node:module';
import path from 'node:path';
const require = createRequire(path.resolve('bench/.deps') + '/');
const { DuckDBInstance } = require('@duckdb/node-api');

const [fixture, out] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const rows = async (sql) => (await con.runAndReadAll(sql)).getRows();
let passed = 0, failed = 0;
const check = (name, ok, detail) => {
  if (ok) passed++; else { failed++; console.log(`not ok ${name}: ${detail}`); }
};

// lask widens types (INT32 -> BIGINT, FLOAT -> DOUBLE, DATE and TIMESTAMP ->
// TIMESTAMP_NS); compare on those.
const orig = `SELECT id, k32::BIGINT AS k32, x, f32::DOUBLE AS f32, flag, cat, label,
  ts::TIMESTAMP_NS AS ts, d::TIMESTAMP_NS AS d, s16::BIGINT AS s16 FROM read_parquet('${fixture}')`;
const same = async (name, relation, cols = '*') => {
  try {
    const [[n1]] = await rows(`SELECT count(*) FROM (${relation})`);
    const [[n2]] = await rows(`SELECT count(*) FROM (${orig})`);
    const [[diff]] = await rows(`SELECT count(*) FROM (
      (SELECT ${cols} FROM (${orig}) EXCEPT ALL SELECT ${cols} FROM (${relation}))
      UNION ALL (SELECT ${cols} FROM (${relation}) EXCEPT ALL SELECT ${cols} FROM (${orig})))`);
    check(name, n1 === n2 && diff === 0n, `${n1} rows vs ${n2}, ${diff} differ`);
  } catch (e) { check(name, false, e.message); }
};

for (const comp of ['snappy', 'zstd', 'gzip', 'none', 'lz4']) {
  const rel = `SELECT * FROM read_parquet('${out}/${comp}/*.parquet')`;
  await same(`${comp} rows`, rel);
  try {
    const types = Object.fromEntries(await rows(`SELECT column_name, column_type FROM (DESCRIBE ${rel})`));
    const want = {id: 'BIGINT', x: 'DOUBLE', flag: 'BOOLEAN', cat: 'VARCHAR', ts: 'TIMESTAMP_NS'};
    check(`${comp} types`, Object.entries(want).every(([k, v]) => types[k] === v), JSON.stringify(types));
    const [[rgs]] = await rows(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata('${out}/${comp}/part.0.parquet')`);
    check(`${comp} row groups`, rgs === 4n, `${rgs} row groups`);
    const [[mn, mx, nulls]] = await rows(`SELECT stats_min_value, stats_max_value, stats_null_count
      FROM parquet_metadata('${out}/${comp}/part.0.parquet') WHERE path_in_schema = 'x' AND row_group_id = 0`);
    const [[rmn, rmx, rnulls]] = await rows(`SELECT min(x)::VARCHAR, max(x)::VARCHAR, count(*) - count(x)
      FROM (SELECT x FROM read_parquet('${fixture}') ORDER BY id LIMIT 1500)`);
    check(`${comp} statistics`, Number(mn) === Number(rmn) && Number(mx) === Number(rmx) && nulls === rnulls,
      `${mn}/${mx}/${nulls} vs ${rmn}/${rmx}/${rnulls}`);
  } catch (e) { check(`${comp} metadata`, false, e.message); }
}
await same('hive', `SELECT * FROM read_parquet('${out}/hive/**/*.parquet', hive_partitioning = true)`,
  'id, k32, x, f32, flag, label, ts, d, s16, coalesce(cat, \'__HIVE_DEFAULT_PARTITION__\') AS cat');
try {
  const r = await rows(`SELECT count(*) FROM read_parquet('${out}/empty.parquet')`);
  const cols = await rows(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${out}/empty.parquet'))`);
  check('empty file', r[0][0] === 0n && cols.length === 3 && cols[2][1] === 'TIMESTAMP_NS', JSON.stringify(cols));
} catch (e) { check('empty file', false, e.message); }
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
