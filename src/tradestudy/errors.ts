// The trade study's one kind of user mistake: an input (a campaign file, a rate, a policy) that cannot mean
// anything. The command line answers it with one line naming the option, file or field (exit code 3).
export class TradeStudyInputError extends Error {}
