import type { Cadence } from './types.js';
import { RotationError } from '../errors/errors.js';

export function parseCadence(text: string): Cadence {
  switch (text) {
    case 'monthly':
      return { months: 1 };
    case 'quarterly':
      return { months: 3 };
    case 'annually':
      return { months: 12 };
  }
  const days = /^([1-9][0-9]*)d$/.exec(text);
  if (!days) throw new RotationError(`cadence: expected monthly | quarterly | annually | <N>d, got '${text}'`);
  return { days: Number(days[1]) };
}

/** When a credential last rotated at `last` is next due (calendar months, in UTC). */
export function nextDue(last: Date, cadence: Cadence): Date {
  const due = new Date(last.getTime());
  if ('months' in cadence) {
    const day = due.getUTCDate();
    due.setUTCDate(1);
    due.setUTCMonth(due.getUTCMonth() + cadence.months);
    // 31 Jan + 1 month is the last day of February, not 3 March.
    const lastDay = new Date(Date.UTC(due.getUTCFullYear(), due.getUTCMonth() + 1, 0)).getUTCDate();
    due.setUTCDate(Math.min(day, lastDay));
  } else {
    due.setUTCDate(due.getUTCDate() + cadence.days);
  }
  return due;
}
