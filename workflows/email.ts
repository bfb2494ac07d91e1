/** email/<dedupeKey>: queue a message in the outbox and deliver it, retrying delivery durably. */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, proxyActivities, startChild } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { EmailRequest } from '../domain/email.ts';
import { emailWorkflowId } from './ids.ts';

const { queueEmail, deliverEmail } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes' },
});

export async function sendEmailWorkflow(
  request: EmailRequest,
): Promise<{ emailId: string; result: 'sent' | 'already_sent' }> {
  const emailId = await queueEmail(request);
  return { emailId, result: await deliverEmail(emailId) };
}

/**
 * Delivers a message its sender queued itself (db/outbox.ts): for mail whose text must stay out of
 * workflow histories, such as a sign-in link.
 */
export async function deliverQueuedEmailWorkflow(emailId: string): Promise<'sent' | 'already_sent'> {
  return deliverEmail(emailId);
}

/**
 * Hands each message to its own email/<dedupeKey> run, which outlives the caller's and retries
 * delivery for as long as SMTP is down, so the calling workflow never waits on mail.
 */
export async function sendInBackground(...messages: EmailRequest[]): Promise<void> {
  for (const message of messages) {
    try {
      await startChild(sendEmailWorkflow, {
        workflowId: emailWorkflowId(message.dedupeKey),
        args: [message],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
    } catch (error) {
      // Already asked for (the outbox dedupes by key in any case).
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  }
}
