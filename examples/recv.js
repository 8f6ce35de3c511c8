// recv.js: log in as a user with the official Easemob Web SDK and print text messages as they
// arrive (those sent while the user was offline come first).
//   node recv.js bob pw        # until Ctrl-C
//   node recv.js bob pw 1      # exit 0 after one message
// ROAM_SERVER (default http://127.0.0.1:5280) and ROAM_APP_KEY (default roam#demo) say where.
'use strict';
const { connect, close, describe } = require('./sdk-node');

const [user = 'bob', pwd = 'pw', count] = process.argv.slice(2);
const wanted = count === undefined ? Infinity : Number(count);

(async () => {
  let conn;
  let received = 0;
  const done = () => {
    if (conn) close(conn);
  };
  const handlers = {
    onTextMessage: (m) => {
      console.log(`${m.from}: ${m.msg}`);
      received += 1;
      if (received >= wanted) done();
    },
    onError: (e) => console.error(`recv.js: ${describe(e)}`),
  };
  ({ conn } = await connect(user, pwd, handlers));
  console.log(`logged in as ${user}; waiting for messages`);
  if (received >= wanted) done();
  process.on('SIGINT', done);
})().catch((e) => {
  console.error(`recv.js: ${describe(e)}`);
  process.exitCode = 1;
});
