/** What other domains may use of approvals: the rest of the folder is its own business. */

export { approvalSchema } from "./dto";
export { type Approval, type Approvals, approvalKind, type DecisionContext } from "./service";
