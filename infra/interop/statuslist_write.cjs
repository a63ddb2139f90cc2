// statuslist_write.cjs: @sd-jwt/jwt-status-list builds and compresses a status list, for our decoder to read.
// stdin: {"bits": n, "size": n, "set": {"<index>": status, ...}}
// stdout: {"lst": "<base64url ZLIB>"}
'use strict';
const { StatusList } = require('@sd-jwt/jwt-status-list');

const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const statuses = new Array(input.size).fill(0);
for (const [idx, status] of Object.entries(input.set)) {
  statuses[Number(idx)] = status;
}
const list = new StatusList(statuses, input.bits);
process.stdout.write(JSON.stringify({ lst: list.compressStatusList() }));
