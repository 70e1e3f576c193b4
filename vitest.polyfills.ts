// Vitest 5 reports failures with Map.groupBy / Object.groupBy, which Node 20 lacks (Node 21+).
// Without these the reporter crashes and the failure details are lost.
type GroupBy = <K, T>(items: Iterable<T>, key: (item: T, index: number) => K) => Map<K, T[]>;
const mapWithGroupBy = Map as unknown as { groupBy?: GroupBy };
mapWithGroupBy.groupBy ??= (items, key) => {
  const groups = new Map();
  let index = 0;
  for (const item of items) {
    const k = key(item, index++);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [item]);
    else group.push(item);
  }
  return groups;
};
const objectWithGroupBy = Object as unknown as {
  groupBy?: <T>(items: Iterable<T>, key: (item: T, index: number) => PropertyKey) => object;
};
objectWithGroupBy.groupBy ??= (items, key) =>
  Object.fromEntries(mapWithGroupBy.groupBy!(items, key));

export {};
