/**
 * HTTP-date (RFC 9110 §5.6.7): IMF-fixdate, and the obsolete rfc850-date and asctime-date every recipient must
 * still accept. Strict on everything else, because an Expires that does not parse is "already expired"
 * (RFC 9111 §5.3), and Date.parse() would read `Thu, 18 Aug 50 02:01:18 GMT` or `18-Aug-2050` as some date.
 * Names of days and months and the zone are matched without regard to case, as most caches do.
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const SHORT_DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const LONG_DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

// Sun, 06 Nov 1994 08:49:37 GMT
const IMF = /^([a-z]{3}), (\d{2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) gmt$/;
// Sunday, 06-Nov-94 08:49:37 GMT
const RFC850 = /^([a-z]{6,9}), (\d{2})-([a-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) gmt$/;
// Sun Nov  6 08:49:37 1994
const ASCTIME = /^([a-z]{3}) ([a-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/** Epoch milliseconds, or undefined when `value` is not an HTTP-date. */
export function parseHttpDate(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const s = value.trim().toLowerCase();
  let m = IMF.exec(s);
  if (m !== null) {
    if (!SHORT_DAYS.includes(m[1]!)) return undefined;
    return build(Number(m[4]), m[3]!, Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7]));
  }
  m = RFC850.exec(s);
  if (m !== null) {
    if (!LONG_DAYS.includes(m[1]!)) return undefined;
    // RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is the most recent past year with those digits.
    const nowYear = new Date(now).getUTCFullYear();
    let year = Math.floor(nowYear / 100) * 100 + Number(m[4]);
    if (year > nowYear + 50) year -= 100;
    return build(year, m[3]!, Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7]));
  }
  m = ASCTIME.exec(s);
  if (m !== null) {
    if (!SHORT_DAYS.includes(m[1]!)) return undefined;
    return build(Number(m[7]), m[2]!, Number(m[3]!.trim()), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  return undefined;
}

function build(year: number, month: string, day: number, hour: number, minute: number, second: number): number | undefined {
  const mon = MONTHS.indexOf(month);
  if (mon < 0 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  const t = Date.UTC(year, mon, day, hour, minute, Math.min(second, 59));
  // 31 Feb and the like roll over into the next month: not a date.
  return new Date(t).getUTCDate() === day ? t : undefined;
}

/** IMF-fixdate of an epoch time, as written in Date and Last-Modified. */
export function formatHttpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
