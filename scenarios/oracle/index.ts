// The independent billing oracle: prices simulator ground truth second by second so the
// scenario runner can check what a back end billed. Shares only types with backend/.
export { priceTruth, roundUpToStep, type OracleBill, type OracleDimension, type PriceableTruth } from './price.js';
export { diffBills, type BilledAmounts, type DimensionDiff } from './diff.js';
export { minorUnitDigits } from './currency.js';
export { findBackendImports, type ImportViolation } from './independence.js';
