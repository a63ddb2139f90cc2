// echo.cjs writes {"echo": <stdin as JSON>, "n": <first argument>} to stdout (testkit's RunNode test).
let input = '';
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', () => {
  process.stdout.write(JSON.stringify({ echo: JSON.parse(input), n: process.argv[2] }));
});
