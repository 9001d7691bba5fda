// The radiation environments a trade study can name instead of a number: public upset rates per bit per day
// (../shared/reference-scenario.md), so that results compare with what mission designers already quote.
export interface UpsetPreset {
  readonly name: string;
  readonly upsetRatePerBitPerDay: number;
  readonly source: string;
}

export const UPSET_PRESETS: readonly UpsetPreset[] = [
  { name: 'geo-rad750', upsetRatePerBitPerDay: 1e-11, source: 'radiation-hardened processor (RAD750) in GEO; secondary source citing the maker' },
  { name: 'leo-cots', upsetRatePerBitPerDay: 1e-7, source: 'commercial SRAM in LEO, upper end of the quoted 1e-9–1e-7 (secondary; mostly the South Atlantic Anomaly)' },
  { name: 'leo-cots-low', upsetRatePerBitPerDay: 1e-9, source: 'commercial SRAM in LEO, lower end of the quoted 1e-9–1e-7' },
];

export function presetNamed(name: string): UpsetPreset | undefined {
  return UPSET_PRESETS.find((preset) => preset.name === name);
}
