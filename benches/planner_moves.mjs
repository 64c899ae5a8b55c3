// The planner's manual adjustment over HTTP: how long a draft's units take to list
// (GET /api/v1/partition-plans/{id}/units: the area read, its units cut again, every unit's
// possible moves checked) and a move takes (POST …/moves: the same, then two grids redrawn,
// every grid's figures recomputed and the plan written), on a fresh demo county, for one
// village plan and one township plan.
//
//   GRIDGOV_BIN=target/release/gridgov node benches/planner_moves.mjs [ROUNDS]
//
// Needs the server binary and web/dist (as the browser tests do). Prints the median and the
// slowest of ROUNDS (default 10) of each, after one untimed round. Speed is never asserted.

import { startServer } from '../tests/web/lib.mjs';

const ROUNDS = Number(process.argv[2] ?? 10);
const AREAS = [
  { label: 'village 520526101001 (3 grids)', body: { village: '520526101001', grids: 3, seconds: 3 } },
  { label: 'township 520526101000 (households 400-600)', body: { township: '520526101000', households: '400-600', seconds: 10 } },
];

const server = await startServer();
try {
  const token = await server.token();
  const api = (uri, options = {}) => server.api(uri, { token, ...options });
  const timed = async (f) => {
    const t0 = process.hrtime.bigint();
    const r = await f();
    return [Number(process.hrtime.bigint() - t0) / 1e6, r];
  };
  const summary = (ms) => {
    const sorted = [...ms].sort((a, b) => a - b);
    return `median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms, slowest ${sorted[sorted.length - 1].toFixed(0)} ms`;
  };
  for (const { label, body } of AREAS) {
    const created = await api('/api/v1/partition-plans', { method: 'POST', json: body });
    if (created.status !== 202) throw new Error(`${label}: ${created.status} ${JSON.stringify(created.body)}`);
    const id = created.body.id;
    let plan;
    do {
      await new Promise((r) => setTimeout(r, 500));
      plan = (await api(`/api/v1/partition-plans/${id}`)).body;
    } while (plan.job === 'running');
    if (plan.job !== 'done') throw new Error(`${label}: ${plan.job_error}`);
    const list = [];
    const moves = [];
    let units = 0;
    for (let round = 0; round <= ROUNDS; round++) {
      const [listMs, listed] = await timed(() => api(`/api/v1/partition-plans/${id}/units`));
      if (listed.status !== 200) throw new Error(`${label}: units ${listed.status}`);
      units = listed.body.units.features.length;
      const unit = listed.body.units.features.find((f) => f.properties.movable_to.length > 0);
      if (!unit) throw new Error(`${label}: no unit may move`);
      const move = { unit: unit.properties.unit, to: unit.properties.movable_to[0], fingerprint: listed.body.fingerprint };
      const [moveMs, moved] = await timed(() => api(`/api/v1/partition-plans/${id}/moves`, { method: 'POST', json: move }));
      if (moved.status !== 200) throw new Error(`${label}: move ${moved.status} ${JSON.stringify(moved.body)}`);
      if (round > 0) {
        list.push(listMs);
        moves.push(moveMs);
      }
    }
    console.log(`${label}: ${plan.summary.grids} grids, ${units} units`);
    console.log(`  GET units   ${summary(list)}`);
    console.log(`  POST moves  ${summary(moves)}`);
  }
} finally {
  await server.stop();
}
