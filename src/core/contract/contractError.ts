/** A model, its metadata or its controls break the contract; the message names what and where. */
export class ContractError extends Error {
  override name = 'ContractError';
}
