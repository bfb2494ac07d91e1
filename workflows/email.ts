/** email/<dedupeKey>: queue a message in the outbox and deliver it, retrying delivery durably. */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { EmailRequest } from '../domain/email.ts';

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
