// The workspace's properties and communities, each linking to its page (tour calendar and tour settings).
import { label } from '../format';
import { useResource } from '../hooks';
import { Link } from '../router';
import { useSession } from '../session';
import type { Property } from '../types';
import { Empty, Loaded, PageHeader, Section, TableWrap } from '../ui';

export function Properties() {
  const { api } = useSession();
  const properties = useResource(() => api.cached<{ properties: Property[] }>('/properties'), []);
  return (
    <>
      <PageHeader
        title="Properties"
        subtitle="Communities and apartment properties, with their tour calendars."
      />
      <Section title="All properties">
        <Loaded
          resource={properties}
          isEmpty={(d) => d.properties.length === 0}
          empty={<Empty title="No properties yet.">Create one with POST /api/v1/properties.</Empty>}
        >
          {(data) => (
            <TableWrap label="Properties">
              <table className="table" data-testid="properties-table">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Time zone</th>
                  </tr>
                </thead>
                <tbody>
                  {data.properties.map((p) => (
                    <tr key={p.property_id}>
                      <th scope="row">
                        <Link to={`/properties/${encodeURIComponent(p.property_id)}`}>{p.name}</Link>
                      </th>
                      <td>{label(p.vertical)}</td>
                      <td>{p.timezone}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
        </Loaded>
      </Section>
    </>
  );
}
