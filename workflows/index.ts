/** Every workflow the worker runs (the bundle's entry point). */
export { bookingWorkflow } from './booking.ts';
export { connectionWorkflow } from './connection.ts';
export { sendEmailWorkflow } from './email.ts';
