/** The event of `DetectorRegistry.onSuspect`: a key became a suspect, at this phi. */
export interface DetectorRegistrySuspectEvent<K> {
  readonly key: K;
  readonly phi: number;
}

/** The event of `DetectorRegistry.onRecover`: a suspect recovered. */
export interface DetectorRegistryRecoverEvent<K> {
  readonly key: K;
}
