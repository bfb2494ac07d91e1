/**
 * E-mail from workflows. Messages are queued in the outbox by an activity (only their ids come
 * back), then `deliverQueued` sends them at once from the calling run and hands whatever could not
 * go to an email/<dedupeKey> run that retries for as long as SMTP is down, so the caller never
 * waits on mail.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, proxyActivities, proxyLocalActivities, startChild } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { EmailRequest, QueuedEmail } from '../domain/email.ts';
import { emailWorkflowId } from './ids.ts';

const { queueEmail, deliverEmail } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes' },
});

/** One try, bounded by the mailer's own timeouts: a slow relay is the delivery runs' business. */
const { deliverEmailsNow } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '45 seconds',
  retry: { maximumAttempts: 1 },
});

/** Queues and delivers one message given whole (runs started before the outbox path use it). */
export async function sendEmailWorkflow(
  request: EmailRequest,
): Promise<{ emailId: string; result: 'sent' | 'already_sent' }> {
  const emailId = await queueEmail(request);
  return { emailId, result: await deliverEmail(emailId) };
}

/** Delivers a queued message, retrying durably: text such as a sign-in link stays out of histories. */
export async function deliverQueuedEmailWorkflow(emailId: string): Promise<'sent' | 'already_sent'> {
  return deliverEmail(emailId);
}

/** Sends queued messages now; any that fail get their own durable delivery run. */
export async function deliverQueued(emails: QueuedEmail[]): Promise<void> {
  if (!emails.length) return;
  let undelivered: QueuedEmail[];
  try {
    undelivered = await deliverEmailsNow(emails);
  } catch {
    undelivered = emails;
  }
  await deliverInBackground(undelivered);
}

/** Gives each queued message its own durable delivery run (retried for as long as SMTP is down). */
export async function deliverInBackground(emails: QueuedEmail[]): Promise<void> {
  for (const email of emails) {
    await startDetached(emailWorkflowId(email.dedupeKey), deliverQueuedEmailWorkflow, [email.id]);
  }
}

/**
 * Hands each message to its own email/<dedupeKey> run (sendEmailWorkflow): for callers that hold
 * the message itself (the needs-reauth notice of a connection run).
 */
export async function sendInBackground(...messages: EmailRequest[]): Promise<void> {
  for (const message of messages) {
    await startDetached(emailWorkflowId(message.dedupeKey), sendEmailWorkflow, [message]);
  }
}

/** A child run that outlives its parent; one already asked for is left alone (the outbox dedupes). */
async function startDetached<A extends unknown[]>(
  workflowId: string,
  workflow: (...args: A) => Promise<unknown>,
  args: A,
): Promise<void> {
  try {
    await startChild(workflow, { workflowId, args, parentClosePolicy: ParentClosePolicy.ABANDON });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}
