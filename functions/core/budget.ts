/** Settings of the account-wide deletion budget: max(floor, fraction × managed) per hour. */
export interface BudgetSettings {
  floor: number;
  fraction: number;
}

export const DEFAULT_BUDGET: BudgetSettings = { floor: 5, fraction: 0.1 };

/** Deletions allowed in one hour for `managed` managed associations account-wide. */
export function budgetLimit(managed: number, settings: BudgetSettings = DEFAULT_BUDGET): number {
  return Math.max(settings.floor, Math.floor(settings.fraction * managed));
}

/** The budget window (UTC hour) of an instant, e.g. `2026-11-23T13`. */
export function budgetWindow(now: Date): string {
  return now.toISOString().slice(0, 13);
}
