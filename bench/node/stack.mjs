// The testcontainers-node side of bench/warm_up.sh: the same three-service
// stack as bench/stack/envup.yaml (postgres with schema.sql as an init
// script, redis with a password, MockServer with expectations.json), the
// same images, Ryuk off. Prints the seconds from the first call to every
// service ready with its data loaded, then stops everything.
//
//   node stack.mjs IMAGE_PREFIX STACK_DIR
import { PostgreSqlContainer } from "@testcontainers/postgresql";
import { RedisContainer } from "@testcontainers/redis";
import { MockserverContainer } from "@testcontainers/mockserver";
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";

const [prefix, dir] = process.argv.slice(2);
const pw = randomBytes(12).toString("hex");
const t0 = process.hrtime.bigint();
const [pg, redis, mock] = await Promise.all([
	new PostgreSqlContainer(`${prefix}postgres:16-alpine`)
		.withDatabase("test").withUsername("test").withPassword(pw)
		.withTmpFs({ "/var/lib/postgresql/data": "rw" })
		.withCopyFilesToContainer([{ source: `${dir}/schema.sql`,
			target: "/docker-entrypoint-initdb.d/schema.sql" }])
		.start(),
	new RedisContainer(`${prefix}redis:7-alpine`).withPassword(pw).start(),
	new MockserverContainer(`${prefix}mockserver/mockserver:5.15.0`).start(),
]);
const put = await fetch(`${mock.getUrl()}/mockserver/expectation`, {
	method: "PUT", body: readFileSync(`${dir}/expectations.json`),
});
if (put.status !== 201)
	throw new Error(`expectations: HTTP ${put.status}`);
const t1 = process.hrtime.bigint();
console.log((Number(t1 - t0) / 1e9).toFixed(3));
await Promise.all([pg.stop(), redis.stop(), mock.stop()]);
