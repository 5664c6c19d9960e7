// The table view of the same models: one row each, the same facts and actions as the cards, scrolling sideways on a phone.
import { memo } from 'react';
import type { ModelSummary } from '../../../../src/schemas/models.ts';
import type { ModelStatus } from '../../../../src/schemas/runtime.ts';
import { formatBytes, formatCount } from '../../format.ts';
import type { ModelRow } from './data.ts';
import { deviceText, memoryText, requestsText, versionText } from './facts.ts';
import { KeepAlive, LastInference } from './KeepAlive.tsx';
import { ModelLink } from './ModelLink.tsx';
import { ModelActions, type Permissions } from './ModelActions.tsx';
import { StatusBadge } from './StatusBadge.tsx';

const COLUMNS = ['Name', 'Version', 'Format', 'Params', 'Size', 'Status', 'Device', 'Memory', 'Last inference', 'Keep-alive', 'Requests'];

export function ModelTable({ rows, can }: { rows: ModelRow[]; can: Permissions }) {
  const withActions = can.operate || can.remove;
  return (
    <div className="table-scroll">
      <table className="model-table">
        <caption className="visually-hidden">Models</caption>
        <thead>
          <tr>
            {COLUMNS.map((column) => (
              <th key={column} scope="col">
                {column}
              </th>
            ))}
            {withActions ? <th scope="col">Actions</th> : null}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <ModelTableRow key={row.summary.name} summary={row.summary} status={row.status} can={can} withActions={withActions} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

const ModelTableRow = memo(function ModelTableRow(props: {
  summary: ModelSummary;
  status: ModelStatus | undefined;
  can: Permissions;
  withActions: boolean;
}) {
  const { summary, status } = props;
  return (
    <tr>
      <th scope="row">
        <ModelLink name={summary.name} />
        {status?.pinned ? <span className="badge pinned">pinned</span> : null}
      </th>
      <td>{versionText(summary, status)}</td>
      <td>
        {summary.format ?? '—'}
        {summary.quantization ? <span className="badge quant">{summary.quantization}</span> : null}
      </td>
      <td>{formatCount(summary.parameter_count)}</td>
      <td>{formatBytes(summary.size_bytes)}</td>
      <td>
        <StatusBadge status={status} />
      </td>
      <td>{deviceText(status)}</td>
      <td data-testid="memory">{memoryText(status)}</td>
      <td>
        <LastInference at={status?.last_inference} />
      </td>
      <td>
        <KeepAlive status={status} />
      </td>
      <td>{requestsText(status)}</td>
      {props.withActions ? (
        <td>
          <ModelActions summary={summary} status={status} can={props.can} />
        </td>
      ) : null}
    </tr>
  );
});
