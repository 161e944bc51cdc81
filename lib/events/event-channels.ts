import { channel } from 'node:diagnostics_channel';
import type { VoxKeyEvent, VoxKeyEventType } from './voxkey-event.interface.js';

/**
 * The `node:diagnostics_channel` channel of each event family: `voxkey:auth` (`auth.*`),
 * `voxkey:jwks` (`jwks.*`) and `voxkey:realm` (`realm.*`). Names are namespaced with the module
 * name, as Node's documentation asks; an APM agent can subscribe without this library's help.
 */
export const VOXKEY_CHANNELS = {
  auth: 'voxkey:auth',
  jwks: 'voxkey:jwks',
  realm: 'voxkey:realm',
} as const;

type Family = keyof typeof VOXKEY_CHANNELS;

const CHANNELS = {
  auth: channel(VOXKEY_CHANNELS.auth),
  jwks: channel(VOXKEY_CHANNELS.jwks),
  realm: channel(VOXKEY_CHANNELS.realm),
};

/** The family (and channel) of an event type. */
export function familyOf(type: VoxKeyEventType): Family {
  return type.slice(0, type.indexOf('.')) as Family;
}

/** Whether anyone listens to `family`: publishing costs nothing more than this check otherwise. */
export function listening(family: Family): boolean {
  return CHANNELS[family].hasSubscribers;
}

/**
 * Publishes `event` on its channel, when someone listens. The event is built by the caller only
 * after `listening()` said yes, where building it costs anything.
 */
export function publish(event: VoxKeyEvent): void {
  const target = CHANNELS[familyOf(event.type)];
  if (target.hasSubscribers) target.publish(event);
}

/** The channel object of a family, for `VoxKeyEvents`. */
export function channelOf(family: Family) {
  return CHANNELS[family];
}
