// send.js: log in as a user with the official Easemob Web SDK and send one text message.
//   npm install easemob-websdk@4.21.1 ws xhr2
//   node send.js alice pw bob "hello bob"
// ROAM_SERVER (default http://127.0.0.1:5280) and ROAM_APP_KEY (default roam#demo) say where.
// Exits 0 once the server has stored and acked the message; otherwise prints why and exits 1.
'use strict';
const { connect, close, describe } = require('./sdk-node');

const [user = 'alice', pwd = 'pw', to = 'bob', text = 'hello bob'] = process.argv.slice(2);

(async () => {
  const { EC, conn } = await connect(user, pwd);
  try {
    const msg = EC.message.create({ type: 'txt', chatType: 'singleChat', to, msg: text });
    const { serverMsgId } = await conn.send(msg);
    console.log(`stored and acked as ${serverMsgId}`);
  } finally {
    close(conn);
  }
})().catch((e) => {
  console.error(`send.js: ${describe(e)}`);
  process.exitCode = 1;
});
