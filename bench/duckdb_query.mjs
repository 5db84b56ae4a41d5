// bench/duckdb_query.mjs - the data frame benchmark's query in DuckDB, for
// the ratio bench/dataframe.lua prints. Usage: node bench/duckdb_query.mjs GLOB
// Prints one JSON line: {"seconds": s, "groups": n, "first": [...]}.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const deps = path.join(path.dirname(new URL(import.meta.url).pathname), '.deps');
const require = createRequire(path.join(deps, 'package.json'));
const { DuckDBInstance } = await import(pathToFileURL(require.resolve('@duckdb/node-api')).href);

const glob = process.argv[2];
const threads = process.argv[3] || '2';
const instance = await DuckDBInstance.create(':memory:', { threads });
const conn = await instance.connect();
const sql = `SELECT key, avg(y) AS y_mean, count(y) AS y_count
             FROM read_csv('${glob.replace(/'/g, "''")}')
             WHERE x > 0.5 GROUP BY key ORDER BY key`;
const t0 = performance.now();
const reader = await conn.runAndReadAll(sql);
const rows = reader.getRows();
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ seconds, groups: rows.length, first: rows[0].map(String) }));
