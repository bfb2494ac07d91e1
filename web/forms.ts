/** Turning a zod failure into one message per form field, as the pages show them. */
import type { z } from 'zod';

/** The first problem of each field, by its dotted path ("weekly.mon.0.end"). */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of error.issues) {
    const path = issue.path.join('.') || 'form';
    if (!(path in errors)) errors[path] = sentence(issue.message);
  }
  return errors;
}

const sentence = (message: string) => {
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
};
