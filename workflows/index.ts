/** Every workflow the worker runs (the bundle's entry point). */
export { bookingWorkflow } from './booking.ts';
export { connectionWorkflow } from './connection.ts';
export { deliverQueuedEmailWorkflow, sendEmailWorkflow } from './email.ts';
