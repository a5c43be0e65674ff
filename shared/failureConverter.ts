// How errors become Temporal failures: message and stack trace go into an encoded payload, so the codec encrypts
// them like every other payload (a failure naming a lead or an email stays unreadable without the keys).
// Loaded by path (DataConverter.failureConverterPath) in clients, workers and the workflow bundle.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });

/** This module's path, for DataConverter.failureConverterPath and bundleWorkflowCode. */
export const FAILURE_CONVERTER_PATH = __filename;
