/** Types of platform.js: where the tests run (Linux, real Windows, or Windows Node under Wine). */

/** This is a Windows build of Node: on Windows or under Wine. The package takes its Winsock path. */
export const WINDOWS_NODE: boolean;
/** This process is a Windows build of Node running under Wine (ntdll exports wine_get_version). */
export const UNDER_WINE: boolean;
/** This process runs on real Windows, where Windows' own rules for shared sockets apply. */
export const ON_REAL_WINDOWS: boolean;
/** This process runs on Linux. */
export const ON_LINUX: boolean;
/** Wine's version, or undefined when not under Wine. */
export function wineVersion(): string | undefined;

type TestFn = jest.ProvidesCallback;

/** `it` on Linux, a visible skip elsewhere; the title ends with `(Linux only: <reason>)`. */
export function itOnLinux(title: string, reason: string, fn: TestFn, timeout?: number): void;
/** `describe` on Linux, a visible skip elsewhere; the title ends with `(Linux only: <reason>)`. */
export function describeOnLinux(title: string, reason: string, fn: () => void): void;
/** `it` on real Windows only (never under Wine); the title ends with `(real Windows only: <reason>)`. */
export function itOnRealWindows(title: string, reason: string, fn: TestFn, timeout?: number): void;
/** `describe` where Node is a Windows build (real Windows or Wine); the title ends with `(Windows only: <reason>)`. */
export function describeOnWindows(title: string, reason: string, fn: () => void): void;
/** `it` where Node is not a Windows build; the title ends with `(off Windows only: <reason>)`. */
export function itOffWindows(title: string, reason: string, fn: TestFn, timeout?: number): void;
/** `describe` where Node is not a Windows build; the title ends with `(off Windows only: <reason>)`. */
export function describeOffWindows(title: string, reason: string, fn: () => void): void;
/** `it` neither on Linux nor on Windows (macOS, the BSDs); the title ends with `(off Linux and Windows only: <reason>)`. */
export function itElsewhere(title: string, reason: string, fn: TestFn, timeout?: number): void;
/** `it` on Linux and where Node is a Windows build; the title ends with `(Linux and Windows only: <reason>)`. */
export function itOnLinuxOrWindows(title: string, reason: string, fn: TestFn, timeout?: number): void;
/** `describe` on Linux and where Node is a Windows build; the title ends with `(Linux and Windows only: <reason>)`. */
export function describeOnLinuxOrWindows(title: string, reason: string, fn: () => void): void;
