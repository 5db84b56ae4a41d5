// parquet_duckdb.mjs SQL [REPEAT]: run SQL in DuckDB REPEAT times (default 3)
// and print "seconds <best> rows <n> checksum <sum of numeric cells>" for
// bench/parquet.lua. Timing excludes Node and DuckDB start-up.
import { createRequire } from 'node:module';
import path from 'node:path';
const require = createRequire(path.resolve('bench/.deps') + '/');
const { DuckDBInstance } = require('@duckdb/node-api');
const [sql, rep = '3'] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
let best = Infinity, rows = [];
for (let i = 0; i < Number(rep); i++) {
  const t0 = process.hrtime.bigint();
  rows = (await con.runAndReadAll(sql)).getRows();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (s < best) best = s;
}
let sum = 0;
for (const r of rows) for (const v of r) if (typeof v === 'number' || typeof v === 'bigint') sum += Number(v);
console.log(`seconds ${best} rows ${rows.length} checksum ${sum}`);
