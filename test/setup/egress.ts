// Every test file's egress allow-list: loopback (the sandboxes, the stack), unless the caller's environment sets one.
import { LOCAL_EGRESS_ALLOW } from '../../shared/egress';

process.env.LEADRELAY_EGRESS_ALLOW ??= LOCAL_EGRESS_ALLOW;
