/**
 * The `Date` header value (IMF-fixdate, RFC 9110 §5.6.7) and the access-log timestamp, each
 * formatted at most once per second. Date.now() per response is cheaper than a timer per
 * second and is never stale.
 */

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

let httpDateValue = "";
let httpDateUntilMs = 0;
let logDateValue = "";
let logDateUntilMs = 0;

function two(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/** e.g. `Sun, 06 Nov 1994 08:49:37 GMT` */
export function httpDate(): string {
  const now = Date.now();
  if (now < httpDateUntilMs) return httpDateValue;
  const d = new Date(now);
  httpDateValue = `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} GMT`;
  httpDateUntilMs = now - (now % 1000) + 1000;
  return httpDateValue;
}

/** Combined log format's `%t` without brackets, in UTC: `10/Oct/2000:13:55:36 +0000` */
export function logDate(): string {
  const now = Date.now();
  if (now < logDateUntilMs) return logDateValue;
  const d = new Date(now);
  logDateValue = `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
  logDateUntilMs = now - (now % 1000) + 1000;
  return logDateValue;
}
