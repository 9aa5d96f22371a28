/** Zero-downtime upgrades: the Upgrader and its option types. */
export { Upgrader } from './upgrader';
export type { UpgraderOptions, UpgradeOptions } from './options';
