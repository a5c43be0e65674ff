// Every workflow the worker registers; the bundle is built from this file.
export { leadJourney } from './leadJourney';
export { webhookDelivery } from './webhookDelivery';
export { pollIntegration } from './pollIntegration';
export { leadImport, importProbe } from './leadImport';
export { completeInboundEvent } from './completeInboundEvent';
