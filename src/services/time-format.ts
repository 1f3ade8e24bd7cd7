// Human time formats used by daytime (RFC 867) and stamp: ctime-style text, or RFC 3339.

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const two = (n: number) => String(n).padStart(2, '0');

/** Local time as C's ctime() writes it, without the newline: `Wed Dec 29 19:14:15 2017`. */
export function formatCtime(date: Date): string {
  const day = String(date.getDate()).padStart(2, ' ');
  const clock = `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
  return `${DAYS[date.getDay()]} ${MONTHS[date.getMonth()]} ${day} ${clock} ${date.getFullYear()}`;
}

/** UTC time as RFC 3339 with whole seconds: `2017-12-29T19:14:15Z`. */
export function formatRfc3339(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** The format named by a `timeFormat` setting. */
export function formatTime(date: Date, format: 'text' | 'iso' = 'text'): string {
  return format === 'iso' ? formatRfc3339(date) : formatCtime(date);
}
