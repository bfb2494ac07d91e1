import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmailOutbox } from '../../db/entities/index.ts';
import { sendEmailWorkflow } from '../../workflows/email.ts';
import { emailWorkflowId } from '../../workflows/ids.ts';
import { type Platform, startPlatform } from '../harness/platform.ts';

let platform: Platform;
beforeAll(async () => {
  platform = await startPlatform();
});
afterAll(() => platform?.stop());

describe('the Temporal harness', () => {
  it('runs a workflow whose activities write to PostgreSQL, exactly once per dedupe key', async () => {
    const dedupeKey = `harness-${Date.now()}`;
    const request = { dedupeKey, to: 'someone@example.com', subject: 'Hello', text: 'From a workflow.' };
    const first = await platform.temporal.workflow.execute(sendEmailWorkflow, {
      workflowId: emailWorkflowId(dedupeKey),
      taskQueue: platform.config.TEMPORAL_TASK_QUEUE,
      args: [request],
    });
    expect(first.result).toBe('sent');
    const row = await platform.orm.em.fork().findOneOrFail(EmailOutbox, { dedupeKey });
    expect(row).toMatchObject({
      id: first.emailId,
      status: 'sent',
      attempts: 1,
      toAddress: 'someone@example.com',
    });
    const eml = readFileSync(path.join(platform.config.dataDir, 'mail', `${first.emailId}.eml`), 'utf8');
    expect(eml).toContain('Subject: Hello');

    const again = await platform.temporal.workflow.execute(sendEmailWorkflow, {
      workflowId: `${emailWorkflowId(dedupeKey)}-again`,
      taskQueue: platform.config.TEMPORAL_TASK_QUEUE,
      args: [request],
    });
    expect(again).toEqual({ emailId: first.emailId, result: 'already_sent' });
    const count = await platform.orm.em.fork().count(EmailOutbox, { dedupeKey });
    expect(count).toBe(1);
  });
});
