/**
 * The credential forms of the password and feed providers (iCloud, CalDAV, ICS), shared by the
 * wizard and by reconnecting: their fields, what was typed (never a password back), and the use
 * case's refusal turned into messages beside the fields or above the form.
 */
import { AppError, type FieldProblem } from '../../../domain/errors.ts';
import { type Html, html } from '../../html.ts';
import { field, formError } from '../../layout.ts';
import { formValue } from './owned.ts';

export const CREDENTIAL_PROVIDERS = ['icloud', 'caldav', 'ics'] as const;
export type CredentialProvider = (typeof CREDENTIAL_PROVIDERS)[number];
export const isCredentialProvider = (provider: string): provider is CredentialProvider =>
  (CREDENTIAL_PROVIDERS as readonly string[]).includes(provider);

interface CredentialField {
  /** The provider's connect-body field (providers/<kind>/module.ts). */
  name: string;
  label: string;
  type: 'text' | 'email' | 'password' | 'url';
  autocomplete: string;
  hint?: Html | string;
  /** What to say when it was left empty. */
  missing: string;
}

const FIELDS: Record<CredentialProvider, CredentialField[]> = {
  icloud: [
    {
      name: 'username',
      label: 'Apple ID',
      type: 'email',
      autocomplete: 'username',
      hint: 'The e-mail address you sign in to iCloud with.',
      missing: 'Enter your Apple ID.',
    },
    {
      name: 'appPassword',
      label: 'App-specific password',
      type: 'password',
      autocomplete: 'off',
      hint: 'Four groups of four letters, such as abcd-efgh-ijkl-mnop. Not your Apple ID password.',
      missing: 'Enter the app-specific password.',
    },
  ],
  caldav: [
    {
      name: 'serverUrl',
      label: 'Server URL',
      type: 'url',
      autocomplete: 'url',
      hint: 'The CalDAV address your calendar app uses, such as https://dav.example.com/.',
      missing: 'Enter the server URL.',
    },
    {
      name: 'username',
      label: 'Username',
      type: 'text',
      autocomplete: 'username',
      missing: 'Enter the username.',
    },
    {
      name: 'password',
      label: 'Password',
      type: 'password',
      autocomplete: 'current-password',
      missing: 'Enter the password.',
    },
  ],
  ics: [
    {
      name: 'url',
      label: 'Feed URL',
      type: 'url',
      autocomplete: 'off',
      hint: 'An https:// or webcal:// address of an .ics calendar. Feeds are read-only: Calbridge reads busy time from them and writes nothing back.',
      missing: 'Enter the feed URL.',
    },
  ],
};

export type CredentialValues = Record<string, string>;

/** Exactly the provider's fields from the posted form (the use case refuses any other). */
export function readCredentials(
  provider: CredentialProvider,
  body: Record<string, unknown>,
): CredentialValues {
  return Object.fromEntries(FIELDS[provider].map((f) => [f.name, formValue(body[f.name])]));
}

export interface CredentialProblems {
  status: number;
  message: string | null;
  fields: Record<string, string>;
}

/** The fields with what was typed and the problems, ready to sit inside a form. */
export function credentialFields(
  provider: CredentialProvider,
  values: CredentialValues,
  problems: CredentialProblems | null,
): Html {
  return html`${formError(problems?.message)}
    ${FIELDS[provider].map((f) =>
      field({
        name: f.name,
        label: f.label,
        type: f.type,
        value: f.type === 'password' ? null : (values[f.name] ?? ''),
        error: problems?.fields[f.name] ?? null,
        hint: f.hint ?? null,
        required: true,
        autocomplete: f.autocomplete,
      }),
    )}`;
}

/**
 * A refusal the person can act on (bad fields, wrong credentials, unreachable, rate limited, already
 * linked) becomes problems to show in the form; anything else is rethrown for the error page.
 */
export function credentialProblems(
  provider: CredentialProvider,
  values: CredentialValues,
  error: unknown,
): CredentialProblems {
  if (!(error instanceof AppError)) throw error;
  if (error.code === 'validation_failed') {
    const fields: Record<string, string> = {};
    const problems = (error.details?.fields as FieldProblem[] | undefined) ?? [];
    for (const problem of problems) {
      const known = FIELDS[provider].find((f) => f.name === problem.path);
      if (!known || fields[known.name]) continue;
      fields[known.name] = values[known.name]
        ? `${known.label} ${problem.message.replace(/[.]$/, '')}.`
        : known.missing;
    }
    if (!Object.keys(fields).length) return { status: 422, message: error.message, fields };
    return { status: 422, message: 'Check the fields marked below.', fields };
  }
  if (error.code === 'already_exists')
    return { status: 409, message: 'This account is already connected to Calbridge.', fields: {} };
  if (error.status === 422 || error.status === 429)
    return { status: error.status, message: error.message, fields: {} };
  throw error;
}

/** Runs a link or reconnect attempt: what it answered, or the problems to show in the form. */
export async function attempt<T>(
  provider: CredentialProvider,
  values: CredentialValues,
  work: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; problems: CredentialProblems }> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, problems: credentialProblems(provider, values, error) };
  }
}
