import { ConfigurationError } from '../errors';
import type { JsonValue } from '../protocol/message';
import type { Canvas } from './canvas';
import { Chain } from './chain';
import { Chord } from './chord';
import { Group } from './group';
import { Signature } from './signature';
import { readSignatureDict } from './signature-dict';

/**
 * Rebuilds a workflow step from its Celery dict (a callback, the next step of a chain, a chord body),
 * whichever process wrote it. Composites are rebuilt as themselves, never as a task named `celery.group`.
 * @throws ConfigurationError naming what is wrong.
 */
export function reviveSignature(value: JsonValue, where = 'signature'): Canvas {
  const dict = readSignatureDict(value, where);
  const tasksOf = (list: JsonValue | undefined, name: string): Canvas[] => {
    if (!Array.isArray(list))
      throw new ConfigurationError(`${where}: a ${dict.subtask_type} needs a list of ${name}`);
    return list.map((item, index) => reviveSignature(item, `${where}.${name}[${index}]`));
  };
  switch (dict.subtask_type) {
    case null:
      return new Signature(dict.task, dict.args, dict.kwargs, dict.options, dict.immutable);
    case 'chain':
      return new Chain(tasksOf(dict.kwargs.tasks, 'tasks'), dict.options);
    case 'group':
      return new Group(tasksOf(dict.kwargs.tasks, 'tasks'), dict.options);
    case 'chord': {
      const header = dict.kwargs.header;
      // Celery writes the header as a group dict; a plain list is accepted too.
      const headerTasks =
        typeof header === 'object' && header !== null && !Array.isArray(header)
          ? tasksOf((header.kwargs as Record<string, JsonValue> | undefined)?.tasks, 'header')
          : tasksOf(header, 'header');
      if (dict.kwargs.body === undefined) throw new ConfigurationError(`${where}: a chord needs a body`);
      return new Chord(headerTasks, reviveSignature(dict.kwargs.body, `${where}.body`), dict.options);
    }
    default:
      throw new ConfigurationError(`${where}: unknown subtask_type ${JSON.stringify(dict.subtask_type)}`);
  }
}
