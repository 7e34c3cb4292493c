import { Item } from "./item";

export interface Store<T> {
  get(id: string): T | undefined;
}

export class MemoryStore<T extends Item> implements Store<T> {
  private items = new Map<string, T>();

  get(id: string): T | undefined {
    return this.items.get(id);
  }

  put(item: T): void {
    this.items.set(item.id, item);
  }
}

export const emptyStore = <T extends Item>(): MemoryStore<T> => new MemoryStore<T>();
